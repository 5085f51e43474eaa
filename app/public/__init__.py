"""The website's own API: token-free reads of published portfolios, cacheable at the edge."""
