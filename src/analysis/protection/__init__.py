"""Confidentiality (Geheimhaltung): what may be published, decided per publication.

``rules`` holds the primary rule (small counts, shares and means resting on them) and the
protected table type that every report table passes through.
"""
