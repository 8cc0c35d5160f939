import pytest

from chalicelib.domain.seating import row_label, seat_number, seat_numbers


@pytest.mark.parametrize(
    ("index", "label"), [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (51, "AZ"), (52, "BA")]
)
def test_rows_are_lettered_like_spreadsheet_columns(index, label):
    assert row_label(index) == label


def test_rows_of_ten_seats():
    numbers = seat_numbers(1, 20, seats_per_row=10)
    assert numbers[:3] == ["A1", "A2", "A3"]
    assert numbers[9] == "A10"
    assert numbers[10] == "B1"
    assert numbers[-1] == "B10"


def test_the_largest_room_has_unique_seat_numbers():
    numbers = seat_numbers(1, 500, seats_per_row=10)
    assert len(set(numbers)) == 500
    assert numbers[-1] == "AX10"


def test_seats_added_later_continue_the_layout():
    assert seat_number(21, seats_per_row=10) == "C1"
    assert seat_numbers(17, 21, seats_per_row=10) == ["B7", "B8", "B9", "B10", "C1"]
