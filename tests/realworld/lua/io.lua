-- io.lua: files in a preopened directory, stdin, the os library, exit codes.
-- Run from the directory that holds it, with that directory preopened and
-- a scratch directory "tmp" inside it.
local dir = "tmp/"

-- Write, append, read back in every mode.
local f = assert(io.open(dir .. "a.txt", "w"))
f:write("line one\n", "line two\n", 3, "\n", 4.5, "\n")
f:close()
f = assert(io.open(dir .. "a.txt", "a"))
f:write("appended\n")
f:close()
for l in io.lines(dir .. "a.txt") do io.write("[", l, "]") end
print()
f = assert(io.open(dir .. "a.txt"))
print(f:read("l"), f:read("n"), f:read("n"), f:read("L"), f:read("a"))
print(f:read("a"), f:read("l"), f:read(0))
print(f:seek("set", 5), f:read(3), f:seek("cur"), f:seek("end"))
f:close()
print(io.type(f), io.type(io.stdout), io.type(42))

-- Binary data and large files.
f = assert(io.open(dir .. "b.bin", "wb"))
for i = 0, 255 do f:write(string.char(i)) end
f:write(string.rep("0123456789", 100000))
f:close()
f = assert(io.open(dir .. "b.bin", "rb"))
local data = f:read("a")
f:close()
print(#data, data:byte(1), data:byte(256), data:sub(-5))
f = assert(io.open(dir .. "b.bin", "r+b"))
f:seek("set", 256); f:write("ABC"); f:seek("set", 255)
print(f:read(5))
f:close()
f = assert(io.open(dir .. "b.bin", "rb"))
print(f:seek("end"), f:setvbuf("full", 4096))
f:close()

-- Offsets past 4 GiB (a sparse file).
f = assert(io.open(dir .. "sparse.bin", "wb"))
print(f:seek("set", 5 * 2^30 // 1), f:write("end") == f, f:seek("end"), f:seek("cur", -3))
print(f:seek("set", 2^32 // 1 + 7))
f:close()
print(os.remove(dir .. "sparse.bin"))

-- Errors come back as values, with errno text (WASI numbers errno its own
-- way, so the number is left out).
print((select(2, io.open(dir .. "missing/none.txt"))))
print(pcall(io.lines, dir .. "missing.txt"))

-- Rename and remove.
print(os.rename(dir .. "a.txt", dir .. "c.txt"))
print(io.open(dir .. "a.txt") == nil, io.open(dir .. "c.txt") ~= nil)
print(os.remove(dir .. "c.txt"), os.remove(dir .. "b.bin"))
print((select(2, os.remove(dir .. "c.txt"))))

-- Modules from the preopened directory.
package.path = "./?.lua"
local mod = require("mod")
print(mod.greet("wharf"), package.loaded.mod == mod)
print(pcall(require, "nosuchmodule") == false)
print(loadfile("mod.lua") ~= nil, dofile("mod.lua").greet("again"))
print(load("return 1 + ...")(41))

-- The os library.
local t = os.time()
print(t > 1600000000, math.type(t), os.difftime(t + 60, t))
print(os.time({year = 2020, month = 1, day = 1, hour = 12}) -
      os.time({year = 2019, month = 12, day = 31, hour = 12}))
print(os.date("!%Y-%m-%d %H:%M:%S", 86400 * 365), os.date("!*t", 0).year)
local c = os.clock()
local x = 0
for i = 1, 200000 do x = x + i end
print(os.clock() >= c, x)
print(os.getenv("WHARF_TEST"), os.getenv("NOT_SET"))

-- stdin: count lines and words of what was piped in.
local lines, words = 0, 0
for l in io.stdin:lines() do
  lines = lines + 1
  for _ in l:gmatch("%S+") do words = words + 1 end
end
print("stdin", lines, words)
io.stderr:write("to stderr\n")
io.stdout:write("exiting with 3\n")
os.exit(3)
