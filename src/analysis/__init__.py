"""fh-analytik: Auswertungen für Netzwerke Frühe Hilfen (Reichweite, Zugangswege, Kosten).

The package holds the data contract, ingestion, the indicator functions and the report
batch; notebooks and the ``fh-analytik`` command are thin shells over it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fh-analytik")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unbekannt"

from analysis import _compat

_compat.install()
