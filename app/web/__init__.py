"""The web pages for people: sign-in, console, search, articles, portal and dashboard."""
