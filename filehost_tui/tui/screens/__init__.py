"""Screens and modals: add, details, statistics, help, confirm."""
