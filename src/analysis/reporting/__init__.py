"""The reports: catalogue, sections, the cells a notebook calls, the batch and its outputs.

``catalogue`` lists the reports; ``sections`` turns protected numbers into tables, figures
and sentences; ``cells`` is what a notebook calls; ``batch`` runs the notebooks with
Papermill, ``export`` renders HTML, PDF and Excel and ``index`` writes the overview page.
"""
