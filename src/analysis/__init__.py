"""fh-analytik: Auswertungen für Netzwerke Frühe Hilfen (Reichweite, Zugangswege, Kosten).

The package holds the data contract, ingestion, the indicator functions and the report
batch; notebooks and the ``fh-analytik`` command are thin shells over it.
"""

from analysis import _compat
from analysis._version import __version__ as __version__

_compat.install()
