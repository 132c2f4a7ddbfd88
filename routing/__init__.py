"""Team routing: charters on day one, a similar-ticket vote, then a calibrated classifier."""
