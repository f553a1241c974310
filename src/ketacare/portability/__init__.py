"""Whole-record portability: a clinic's archive out (`ketacare export`) and in (`import`)."""
