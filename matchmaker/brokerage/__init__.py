"""Brokerage: brokers, their deal pipelines, technology contracts (技术合同) and feedback on matches."""
