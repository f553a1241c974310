"""Shared shell plumbing every app uses (input bounds, and more)."""
