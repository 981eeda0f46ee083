"""The files package's public entry points, for the rest of the library: read a table in
chunks, find its columns, escape formulas, write a table atomically.

The work is done in the modules named beside each import; this module only gathers them."""
from triage.files.columns import (DATE_COLUMNS, DEPUTY_COLUMNS, ENTERPRISE_COLUMNS, TEXT_COLUMNS,  # noqa: F401
                                  find_column)
from triage.files.escape import escape_formula, escape_formulas, unescape_formula  # noqa: F401
from triage.files.formats import file_format  # noqa: F401
from triage.files.read import read_chunks  # noqa: F401
from triage.files.write import TableWriter  # noqa: F401
from triage.files.xlsx_read import xlsx_sheets  # noqa: F401
