"""The reports: catalogue, sections, the cells a notebook calls, the batch and its outputs.

``catalogue`` lists the reports; ``sections`` turns protected numbers into tables, figures
and sentences; ``cells`` is what a notebook calls; ``batch`` runs the notebooks with
Papermill, ``export`` renders HTML, PDF and Excel and ``index`` writes the overview page.
"""

# Names both sides of a process boundary use, defined here so that the worker process
# imports neither ``cells`` nor ``batch`` (pandas, the protection modules) to know them.

#: MIME type under which a report cell publishes a table's payload: ``cells`` (in the kernel)
#: writes it, ``export`` (in the worker) reads it.
TABLE_MIME = "application/vnd.fh-analytik.tabelle+json"
#: Line a long-lived worker writes after each report (``export.serve``; the batch waits for it).
DONE = "FH-ANALYTIK-FERTIG"
