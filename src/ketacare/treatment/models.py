"""Models of the treatment app."""
