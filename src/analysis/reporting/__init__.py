"""The reports: catalogue, sections, the cells a notebook calls, the batch and its outputs.

``catalogue`` lists the reports; ``sections`` turns protected numbers into tables, figures
and sentences; ``cells`` is what a notebook calls; ``batch`` runs the notebooks with
Papermill, ``export`` renders HTML, PDF and Excel and ``index`` writes the overview page.
"""

#: MIME type under which a report cell publishes a table's payload: ``cells`` (in the kernel)
#: writes it, ``export`` (in the worker) reads it. Defined here, so the worker does not import
#: ``cells`` with pandas and the protection modules only to know this name.
TABLE_MIME = "application/vnd.fh-analytik.tabelle+json"
