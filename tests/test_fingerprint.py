from harness.world.fingerprint import fingerprint, short


def test_values_become_placeholders():
    assert fingerprint("SELECT * FROM users WHERE id = 42 AND name = 'Ada'") == (
        "SELECT * FROM users WHERE id = ? AND name = ?"
    )


def test_in_lists_collapse_whatever_their_length():
    one = fingerprint("SELECT tasks.id FROM tasks WHERE tasks.project_id IN (?)")
    many = fingerprint("SELECT tasks.id FROM tasks WHERE tasks.project_id IN (?, ?, ?,\n ?)")
    assert one == many == "SELECT tasks.id FROM tasks WHERE tasks.project_id IN (...)"


def test_driver_parameter_styles_are_equal():
    assert fingerprint("SELECT a FROM t WHERE b = $1") == fingerprint("SELECT a FROM t WHERE b = ?")
    assert fingerprint("SELECT a FROM t WHERE b = :b_1") == fingerprint("SELECT a FROM t WHERE b = ?")
    # SQLAlchemy's asyncpg dialect casts its parameters.
    assert fingerprint("SELECT a FROM t WHERE b = $1::INTEGER AND c IN ($2::VARCHAR, $3::VARCHAR)") == (
        "SELECT a FROM t WHERE b = ? AND c IN (...)"
    )


def test_whitespace_is_folded_and_identifiers_with_digits_kept():
    assert fingerprint("SELECT  t1.a\n FROM   t1") == "SELECT t1.a FROM t1"


def test_short_form_drops_the_column_list():
    assert short("SELECT users.id, users.name FROM users WHERE users.id = ?") == "SELECT users WHERE users.id = ?"
    assert short("UPDATE users SET name = ?") == "UPDATE users SET name = ?"
