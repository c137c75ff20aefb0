"""Display-width checks of the client's tables: CJK and fullwidth characters take two columns."""
import unicodedata


def display_width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0
               if unicodedata.combining(ch) else 1 for ch in s)


def _index_at(line, col):
    """The index of the character that starts at display column col, or None when the line
    ends first. Fails when col falls inside a wide character."""
    acc = 0
    for i, ch in enumerate(line):
        if acc == col:
            return i
        assert acc < col, "column %d falls inside a character of %r" % (col, line)
        acc += display_width(ch)
    assert acc <= col, "column %d falls inside a character of %r" % (col, line)
    return None


def assert_columns_line_up(lines, names):
    """Each named column starts at the display column of its header on every line: the cell
    begins exactly there after two blanks, or is empty (blanks up to the next column)."""
    header = lines[0]
    starts = [display_width(header[:header.index(n)]) for n in names]
    assert starts == sorted(starts)
    for line in lines[1:]:
        for k, col in enumerate(starts):
            i = _index_at(line, col)
            if i is None:
                break  # the rest of the line is empty cells
            assert line[i - 2:i] == "  ", (names[k], line)
            if line[i] == " ":
                j = _index_at(line, starts[k + 1]) if k + 1 < len(starts) else None
                assert line[i:j].strip() == "", (names[k], line)
