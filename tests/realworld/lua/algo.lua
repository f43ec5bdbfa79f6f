-- algo.lua: small classic workloads whose exact output is known natively:
-- allocation-heavy trees, floating point, permutations, sorting, strings.
local function tree(d)
  if d == 0 then return {} end
  return {tree(d - 1), tree(d - 1)}
end
local function check(t)
  if not t[1] then return 1 end
  return 1 + check(t[1]) + check(t[2])
end
for d = 4, 12, 2 do
  local n = 2 ^ (14 - d)
  local c = 0
  for _ = 1, n do c = c + check(tree(d)) end
  print("trees", d, n, c)
end

-- N-body (two bodies' worth of the usual solar system).
local bodies = {
  {x = 0, y = 0, z = 0, vx = 0, vy = 0, vz = 0, m = 39.47841760435743},
  {x = 4.84143144246472090, y = -1.16032004402742839, z = -0.103622044471123109,
   vx = 0.606326392995832, vy = 2.81198684491626, vz = -0.02521836165988763,
   m = 0.03769367487038949},
  {x = 8.34336671824457987, y = 4.12479856412430479, z = -0.403523417114321381,
   vx = -1.010774346178792, vy = 1.825662371230411, vz = 0.008415761376584154,
   m = 0.011286326131968767},
}
local function energy()
  local e = 0
  for i, b in ipairs(bodies) do
    e = e + 0.5 * b.m * (b.vx ^ 2 + b.vy ^ 2 + b.vz ^ 2)
    for j = i + 1, #bodies do
      local c = bodies[j]
      local dx, dy, dz = b.x - c.x, b.y - c.y, b.z - c.z
      e = e - b.m * c.m / math.sqrt(dx * dx + dy * dy + dz * dz)
    end
  end
  return e
end
local function advance(dt)
  for i, b in ipairs(bodies) do
    for j = i + 1, #bodies do
      local c = bodies[j]
      local dx, dy, dz = b.x - c.x, b.y - c.y, b.z - c.z
      local d2 = dx * dx + dy * dy + dz * dz
      local mag = dt / (d2 * math.sqrt(d2))
      b.vx, b.vy, b.vz = b.vx - dx * c.m * mag, b.vy - dy * c.m * mag, b.vz - dz * c.m * mag
      c.vx, c.vy, c.vz = c.vx + dx * b.m * mag, c.vy + dy * b.m * mag, c.vz + dz * b.m * mag
    end
  end
  for _, b in ipairs(bodies) do
    b.x, b.y, b.z = b.x + dt * b.vx, b.y + dt * b.vy, b.z + dt * b.vz
  end
end
print(string.format("energy %.9f", energy()))
for _ = 1, 5000 do advance(0.01) end
print(string.format("energy %.9f", energy()))

-- Fannkuch of 8.
local function fannkuch(n)
  local p, q, s, sign, maxflips, sum = {}, {}, {}, 1, 0, 0
  for i = 1, n do p[i] = i; q[i] = i; s[i] = i end
  while true do
    local q1 = p[1]
    if q1 ~= 1 then
      for i = 2, n do q[i] = p[i] end
      local flips = 1
      while true do
        local qq = q[q1]
        if qq == 1 then
          sum = sum + sign * flips
          if flips > maxflips then maxflips = flips end
          break
        end
        q[q1] = q1
        if q1 >= 4 then
          local i, j = 2, q1 - 1
          repeat q[i], q[j] = q[j], q[i]; i = i + 1; j = j - 1 until i >= j
        end
        q1 = qq; flips = flips + 1
      end
    end
    if sign == 1 then
      p[2], p[1] = p[1], p[2]; sign = -1
    else
      p[2], p[3] = p[3], p[2]; sign = 1
      for i = 3, n do
        local sx = s[i]
        if sx ~= 1 then s[i] = sx - 1; break end
        if i == n then return sum, maxflips end
        s[i] = i
        local t = p[1]
        for j = 1, i do p[j] = p[j + 1] end
        p[i + 1] = t
      end
    end
  end
end
print("fannkuch", fannkuch(8))

-- Sorting with a comparator, a linear congruential generator, and strings.
local seed = 42
local function rand()
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed
end
local a = {}
for i = 1, 20000 do a[i] = {k = rand() % 1000, i = i} end
table.sort(a, function(x, y) if x.k ~= y.k then return x.k < y.k end return x.i < y.i end)
print("sorted", a[1].k, a[1].i, a[10000].k, a[20000].k, a[20000].i)
local parts = {}
for i = 1, 20000 do parts[#parts + 1] = string.format("%d:%x", i, rand()) end
local s = table.concat(parts, ",")
local sum = 0
for n in s:gmatch("(%d+):") do sum = sum + tonumber(n) end
print("strings", #s, sum, s:sub(1, 30), select(2, s:gsub(",", ",")))
