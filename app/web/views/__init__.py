"""One module of page views per page group."""
