"""Trading (issue 16): ways to price and sell results beyond negotiation — fixed-price listings (挂牌) so far."""
