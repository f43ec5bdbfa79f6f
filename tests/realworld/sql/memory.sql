-- memory.sql: no database file; output modes and dot-commands.
CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
INSERT INTO kv VALUES ('a', 1), ('b', 2.5), ('c', 'three'), ('d', NULL), ('e', x'00ff');
.mode line
SELECT * FROM kv WHERE k < 'c';
.mode markdown
SELECT k, typeof(v), quote(v) FROM kv;
.mode insert kv
SELECT * FROM kv WHERE k = 'b';
.mode list
.nullvalue NULL
SELECT v FROM kv ORDER BY k;
SELECT 1/0, 10 % 3, 7 / 2, 7 / 2.0, -5 >> 1, 'x' || 1.5e300 * 1e10;
SELECT upper('straße'), lower('ÀB'), length('häll€'), hex('€'), unicode('€');
SELECT * FROM no_such_table;
SELECT 'after the error';
