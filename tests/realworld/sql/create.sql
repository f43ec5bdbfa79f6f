-- create.sql: builds a database file from scratch, like a user at the
-- sqlite3 prompt: tables, bulk inserts, indexes, a transaction rolled back,
-- an import from CSV. The database is reopened by query.sql.
.bail on
CREATE TABLE dept(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);
CREATE TABLE emp(id INTEGER PRIMARY KEY, name TEXT, dept INTEGER REFERENCES dept,
                 salary REAL, hired TEXT, notes BLOB);
INSERT INTO dept(name) VALUES ('eng'), ('ops'), ('sales'), ('legal');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
INSERT INTO emp(name, dept, salary, hired, notes)
SELECT 'emp' || i, 1 + i % 4, 30000 + (i * 7919) % 90000,
       date('2000-01-01', '+' || (i % 8000) || ' days'), randomblob(i % 64)
FROM n;
CREATE INDEX emp_dept ON emp(dept, salary);
BEGIN;
DELETE FROM emp WHERE id > 100;
SELECT count(*) FROM emp;
ROLLBACK;
SELECT count(*) FROM emp;
UPDATE emp SET salary = salary * 1.1 WHERE dept = 2;
DELETE FROM emp WHERE id % 97 = 0;
CREATE TABLE city(name TEXT, country TEXT, pop INTEGER);
.import --csv --skip 1 cities.csv city
SELECT count(*), sum(pop) FROM city;
CREATE VIRTUAL TABLE doc USING fts5(title, body);
INSERT INTO doc VALUES ('wasm', 'a portable binary instruction format'),
  ('wasi', 'a system interface for running wasm outside the browser'),
  ('sqlite', 'a small fast self-contained sql database engine');
PRAGMA integrity_check;
.tables
.schema dept
