-- files.sql: the shell's file functions on a preopened directory. writefile
-- makes a tree of 300 files with set modification times (mkdir, open,
-- write, utimes), fsdir walks it (readdir with cookies across several
-- reads, lstat) and readfile reads files back. Modes are compared by file
-- type only (mode & 0170000): WASI has no permission bits.
.bail on
SELECT writefile('tree', NULL, 16877);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
SELECT sum(writefile(printf('tree/f%03d.txt', i), printf('file number %d', i), 420,
                     1000000000 + i)) FROM n;
SELECT count(*), sum(length(data)), min(name), max(name), sum(mtime - 1000000000)
FROM fsdir('tree') WHERE mode & 61440 = 32768;
SELECT name, mode & 61440, mtime FROM fsdir('tree') WHERE name GLOB '*f15[0-3].txt' ORDER BY name;
SELECT writefile('tree/sub', NULL, 16877), writefile('tree/sub/deep.txt', 'deep down');
SELECT name, mode & 61440, length(data) FROM fsdir('tree/sub') ORDER BY name;
SELECT readfile('tree/f042.txt'), readfile('tree/sub/deep.txt'), readfile('tree/nothing') IS NULL;
SELECT writefile('tree/f001.txt', 'overwritten'), readfile('tree/f001.txt');
SELECT count(*) FROM fsdir('tree');
