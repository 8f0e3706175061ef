"""Market analytics for S&T departments: turnover, local conversion, the deal funnel and the broker league."""
