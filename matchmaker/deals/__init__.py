"""Deals shared by the people in a pair: interest and introduction (对接), the confidentiality undertaking, and the deal thread (对接记录)."""
