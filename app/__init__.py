"""Stellwerk: knowledge and routing service for IT second-level support."""
