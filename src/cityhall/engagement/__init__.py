"""Engagement: satisfaction ratings of reports and dossiers, and the public rankings.

Wards and agencies are ranked on their satisfaction and on-time rates.
"""
