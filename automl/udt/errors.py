"""Errors udt raises for bad input data or bad options.

Both are ValueErrors, so code that catches ValueError keeps working; the attributes say
where the problem is, so a caller can report it without parsing the message.
"""


class DataError(ValueError):
    """A problem in the input data: names the file, row (or line), column and what was expected.

    `row` counts data rows from 1 (the header is not a row); `line` is a physical line
    of a text file (from 1, header included) when that is what is known.
    """

    def __init__(self, message, *, file=None, row=None, line=None, column=None):
        self.file, self.row, self.line, self.column = file, row, line, column
        where = []
        if file is not None:
            where.append(f"file '{file}'")
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        self.message = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ConfigError(ValueError):
    """An invalid option or column declaration: says which value was wrong and what would be right."""
