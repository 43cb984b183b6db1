"""The business case: the assumptions model, the portfolio editor, the audience views and the cost chart."""
