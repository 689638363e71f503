"""Feedback to the city (the 1022 line).

Categories, reports from every channel, routing, handling and the Open311 GeoReport v2 server.
"""
