-- basics.lua: strings, tables, closures, metatables, integers and floats.
local words = {}
for w in ("the quick brown fox jumps over the lazy dog"):gmatch("%a+") do
  words[#words + 1] = w
end
table.sort(words)
print(table.concat(words, ","))
print(("hello"):upper(), ("Hello"):rep(3, "-"), ("abc"):reverse(), #"wharf")
print(string.format("%5.2f|%-6s|%x|%q|%g|%e", math.pi, "ab", 255, "a\nb", 1e20, 12345.678))
print(("key=value; k2=v2"):gsub("(%w+)=(%w+)", "%2=%1"))
print(string.find("find the needle here", "needle", 1, true))
print(string.byte("ABC", 1, -1), string.char(72, 105))
print(utf8.char(72, 228, 8364, 128512), utf8.len("häll€"))
for p, c in utf8.codes("aé€") do io.write(p, ":", c, " ") end
print()

-- Closures: counters that share nothing.
local function counter(step)
  local n = 0
  return function() n = n + step; return n end
end
local c1, c2 = counter(1), counter(10)
c1(); c1(); c2()
print(c1(), c2())

-- Metatables: a small vector type.
local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({x = a.x + b.x, y = a.y + b.y}, V) end
V.__tostring = function(v) return "(" .. v.x .. "," .. v.y .. ")" end
V.__eq = function(a, b) return a.x == b.x and a.y == b.y end
local a = setmetatable({x = 1, y = 2}, V)
local b = setmetatable({x = 3, y = 4}, V)
print(tostring(a + b), a + b == setmetatable({x = 4, y = 6}, V))

-- Numbers: integer and float semantics.
print(7 // 2, -7 // 2, 7 % -3, 7.0 // 2, 2^53, math.maxinteger, math.mininteger)
print(math.maxinteger + 1 == math.mininteger, 1e308 * 10, -(0/0) ~= -(0/0))
print(3 | 5, 3 & 5, 3 ~ 5, ~0, 1 << 62, 1 << 64, 256 >> 4)
print(math.tointeger(3.0), math.type(1), math.type(1.0), math.type("1"))
print(tonumber("0x1p4"), tonumber("  12  "), tonumber("z", 36), tonumber("1e1"))
print(string.format("%.14g", 0.1 + 0.2), 100000000000000, 2^63, math.floor(-3.5))

-- Tables: big arrays, holes, next, table library.
local t = {}
for i = 1, 10000 do t[i] = i * i end
print(#t, t[100], select("#", table.unpack(t, 1, 200)))
table.insert(t, 1, 0); table.remove(t)
print(t[1], t[2], #t, table.concat(table.move({1, 2, 3}, 1, 3, 2), " "))
local keys = {}
for k in pairs({alpha = 1, beta = 2, gamma = 3}) do keys[#keys + 1] = k end
table.sort(keys, function(x, y) return x > y end)
print(table.concat(keys, " "))

-- goto and varargs.
local function sum(...)
  local s = 0
  for i = 1, select("#", ...) do s = s + select(i, ...) end
  return s
end
print(sum(1, 2, 3, 4.5))
for i = 1, 3 do
  for j = 1, 3 do
    if j == 2 then goto continue end
    io.write(i, j, " ")
    ::continue::
  end
end
print()
