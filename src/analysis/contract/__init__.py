"""The data contract in code: the raw tables, their columns and categories, and the demo.

``schema`` defines it once; ``docs`` renders it for people; ``demo`` writes the synthetic
municipality that exercises it.
"""
