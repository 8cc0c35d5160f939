"""How seats are laid out in a room.

Rows hold ``seats_per_row`` seats (10 by default) and are lettered like spreadsheet
columns: A..Z, then AA, AB, ... so the 500-seat maximum (50 rows) never runs out of
labels. Seat numbers are the row label followed by the position in the row: A1..A10, B1...
"""

from __future__ import annotations

MIN_SEATS = 16
MAX_SEATS = 500


def row_label(row_index: int) -> str:
    label = ""
    index = row_index + 1
    while index:
        index, remainder = divmod(index - 1, 26)
        label = chr(ord("A") + remainder) + label
    return label


def seat_number(position: int, seats_per_row: int) -> str:
    """Seat number of the seat at 1-based ``position`` in the room."""
    row, column = divmod(position - 1, seats_per_row)
    return f"{row_label(row)}{column + 1}"


def seat_numbers(first_position: int, last_position: int, seats_per_row: int) -> list[str]:
    return [seat_number(p, seats_per_row) for p in range(first_position, last_position + 1)]
