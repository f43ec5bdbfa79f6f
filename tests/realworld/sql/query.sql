-- query.sql: reads the database create.sql made, then changes it again.
.bail on
.headers on
SELECT d.name, count(*) AS n, round(avg(e.salary), 2) AS avg_salary,
       min(e.hired) AS first, max(e.hired) AS last
FROM emp e JOIN dept d ON d.id = e.dept GROUP BY d.name ORDER BY d.name;
SELECT name, salary, rank() OVER (PARTITION BY dept ORDER BY salary DESC) AS r
FROM emp WHERE id < 40 ORDER BY dept, r, name LIMIT 8;
SELECT sum(length(notes)), count(DISTINCT hex(substr(notes, 1, 0))) FROM emp;
.mode box
SELECT name, country, pop FROM city ORDER BY pop DESC LIMIT 3;
.mode json
SELECT title, snippet(doc, 1, '[', ']', '...', 4) AS s FROM doc WHERE doc MATCH 'wasm' ORDER BY rank;
.mode csv
SELECT json_object('n', 1, 'a', json_array(1, 2.5, 'x')), printf('%08.3f|%-5s|%x', 3.14159, 'ab', 255);
.mode list
SELECT strftime('%Y-%m-%d %H:%M', '2024-02-28 23:30', '+1 day', '+45 minutes'), julianday('2000-01-01');
SELECT sqrt(2), pow(2, 10), ln(1), typeof(1), typeof(1.0), typeof('1'), typeof(x'01'), 9223372036854775807 + 0;
SELECT group_concat(name, ';') FROM (SELECT name FROM dept ORDER BY name DESC);
EXPLAIN QUERY PLAN SELECT * FROM emp WHERE dept = 3 AND salary > 100000;
ATTACH 'other.db' AS other;
CREATE TABLE other.t AS SELECT id, name FROM emp WHERE id <= 5;
SELECT * FROM other.t;
DETACH other;
.output dump.sql
.dump city
.output stdout
DROP TABLE city;
.read dump.sql
SELECT count(*), max(name) FROM city;
VACUUM;
PRAGMA page_count > 10;
PRAGMA integrity_check;
