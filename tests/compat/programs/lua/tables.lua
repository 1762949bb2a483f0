# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
-- Tables: arrays, hashes, sort, insert/remove/move, metatables, classes and inheritance.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- a deterministic pseudo-random sequence (xorshift), then sorts of it
local seed = 2463534242
local function rand(n)
  seed = seed ~ (seed << 13) & 0xffffffff
  seed = seed ~ (seed >> 17)
  seed = seed ~ (seed << 5) & 0xffffffff
  return seed % n
end
local a = {}
for i = 1, 50000 do a[i] = rand(100000) end
table.sort(a)
local ok = true
for i = 2, #a do if a[i - 1] > a[i] then ok = false end end
print("sorted", ok, a[1], a[#a], a[25000])
table.sort(a, function(x, y) return x > y end)
print("reversed", a[1], a[#a])
local words = {}
for i = 1, 5000 do words[i] = string.format("w%05d", rand(99999)) end
table.sort(words)
print("words", words[1], words[2500], words[5000])

-- records sorted by two keys
local people = {}
for i = 1, 300 do people[i] = {name = "p" .. (i * 7919 % 300), age = 20 + i % 37} end
table.sort(people, function(p, q)
  if p.age ~= q.age then return p.age < q.age end
  return p.name < q.name
end)
print(people[1].name, people[1].age, people[300].name, people[300].age)

-- insert / remove / move / unpack / concat
local t = {}
for i = 1, 100 do table.insert(t, i) end
table.insert(t, 1, 0)
table.insert(t, 50, "mid")
print(#t, t[1], t[50], t[51], table.remove(t), table.remove(t, 1), #t)
local m = table.move(t, 1, 10, 5, {})
print(#m, m[5], m[14], table.concat(m, ",", 5, 14))
print(select("#", table.unpack({1, 2, nil, 4}, 1, 4)), table.unpack({10, 20, 30}, 2))
print(table.concat({1, 2.5, "x"}, "-"), select(-1, 1, 2, 3), table.pack(1, nil, 3).n)

-- hash part: counts of words, printed sorted
local counts = {}
for i = 1, 20000 do
  local k = "k" .. (i * i % 97)
  counts[k] = (counts[k] or 0) + 1
end
local line = {}
for _, k in ipairs(sorted_keys(counts)) do line[#line + 1] = k .. "=" .. counts[k] end
print(#line, table.concat(line, " ", 1, 10))

-- mixed keys, holes, integer-valued floats as keys
local mix = {[1] = "one", [2.0] = "two", ["3"] = "three", [true] = "yes"}
mix[3] = "int three"
print(mix[1], mix[2], mix["3"], mix[3], mix[true], #mix)
local sum = 0
for k, v in pairs({10, 20, 30, x = 1, y = 2}) do sum = sum + (type(k) == "number" and v or 0) end
print("sum", sum)

-- metatables
local Vec = {}
Vec.__index = Vec
function Vec.new(x, y) return setmetatable({x = x, y = y}, Vec) end
function Vec.__add(a, b) return Vec.new(a.x + b.x, a.y + b.y) end
function Vec.__mul(a, k) return Vec.new(a.x * k, a.y * k) end
function Vec.__eq(a, b) return a.x == b.x and a.y == b.y end
function Vec.__lt(a, b) return a:len2() < b:len2() end
function Vec.__le(a, b) return a:len2() <= b:len2() end
function Vec.__tostring(a) return "(" .. a.x .. "," .. a.y .. ")" end
function Vec.__concat(a, b) return tostring(a) .. tostring(b) end
function Vec.__len(a) return 2 end
function Vec.__unm(a) return Vec.new(-a.x, -a.y) end
function Vec:len2() return self.x * self.x + self.y * self.y end
local p, q = Vec.new(1, 2), Vec.new(3, 4)
print(tostring(p + q), tostring(p * 3), p == Vec.new(1, 2), p < q, q <= p, p .. q, #p, tostring(-p))
local acc = Vec.new(0, 0)
for i = 1, 100000 do acc = acc + Vec.new(i % 3, i % 5) end
print("acc", tostring(acc))

local log = {}
local proxy = setmetatable({}, {
  __index = function(_, k) log[#log + 1] = "get " .. k; return k .. "!" end,
  __newindex = function(t, k, v) log[#log + 1] = "set " .. k; rawset(t, k, v) end,
  __call = function(self, a, b) return a + b end,
})
print(proxy.foo, proxy(2, 3)); proxy.bar = 1; print(proxy.bar, rawget(proxy, "foo"))
print(table.concat(log, ";"))

-- classes with inheritance
local Animal = {} Animal.__index = Animal
function Animal.new(name, sound) return setmetatable({name = name, sound = sound}, Animal) end
function Animal:speak() return self.name .. " says " .. self.sound end
local Dog = setmetatable({}, {__index = Animal}) Dog.__index = Dog
function Dog.new(name) local d = Animal.new(name, "woof"); return setmetatable(d, Dog) end
function Dog:fetch() return self.name .. " fetches" end
local d = Dog.new("rex")
print(d:speak(), d:fetch(), getmetatable(d) == Dog, rawequal(d, d))

-- weak tables and the collector (counts only of what is certain)
local weak = setmetatable({}, {__mode = "k"})
do for i = 1, 100 do weak[{}] = i end end
collectgarbage(); collectgarbage()
local left = 0
for _ in pairs(weak) do left = left + 1 end
print("weak left", left)
local closed = {}
do
  local x <close> = setmetatable({}, {__close = function() closed[#closed + 1] = "x" end})
  local y <close> = setmetatable({}, {__close = function() closed[#closed + 1] = "y" end})
end
print("closed", table.concat(closed, ","))
