# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
-- Closures, upvalues, varargs, recursion, goto, and coroutines: generators, pipelines,
-- yields across pcall, wrap, close, and a round-robin scheduler.
local function counter(start, step)
  local n = start
  return function() n = n + step; return n end, function() return n end
end
local inc, get = counter(10, 3)
for _ = 1, 5 do inc() end
print("counter", get(), inc())

local fns = {}
for i = 1, 10 do fns[i] = function() return i * i end end
local s = 0
for i = 1, 10 do s = s + fns[i]() end
print("fresh loop variables", s)

local function compose(...)
  local fs = table.pack(...)
  return function(x)
    for i = fs.n, 1, -1 do x = fs[i](x) end
    return x
  end
end
print(compose(function(x) return x + 1 end, function(x) return x * 2 end, math.abs)(-5))
local function varsum(...)
  local t = 0
  for i = 1, select("#", ...) do t = t + (select(i, ...) or 0) end
  return t, select("#", ...)
end
print(varsum(1, 2, nil, 4), varsum())

local function ack(m, n)
  if m == 0 then return n + 1 end
  if n == 0 then return ack(m - 1, 1) end
  return ack(m - 1, ack(m, n - 1))
end
print("ack", ack(2, 300), ack(3, 5))
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print("fib", fib(27))
local function tailcount(n, acc) if n == 0 then return acc end return tailcount(n - 1, acc + 1) end
print("tail calls", tailcount(1000000, 0))

do
  local i, found = 1, nil
  ::again::
  if i * i > 2000 then found = i goto done end
  i = i + 1
  goto again
  ::done::
  print("goto", found)
end

-- generators
local function range(n)
  return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
end
local total = 0
for v in range(100000) do total = total + v end
print("generator", total)

local function primes()
  return coroutine.wrap(function()
    local found = {}
    local n = 2
    while true do
      local prime = true
      for _, p in ipairs(found) do
        if p * p > n then break end
        if n % p == 0 then prime = false break end
      end
      if prime then found[#found + 1] = n; coroutine.yield(n) end
      n = n + 1
    end
  end)
end
local gen, last = primes(), 0
for _ = 1, 3000 do last = gen() end
print("3000th prime", last)

-- producer / filter / consumer pipeline
local function producer()
  return coroutine.create(function()
    for line in ("alpha beta gamma delta epsilon zeta eta theta"):gmatch("%a+") do
      coroutine.yield(line)
    end
  end)
end
local function filter(src, pred)
  return coroutine.create(function()
    while true do
      local ok, v = coroutine.resume(src)
      if not v then return end
      if pred(v) then coroutine.yield(v:upper()) end
    end
  end)
end
local f = filter(producer(), function(w) return #w > 4 end)
local got = {}
while true do
  local _, v = coroutine.resume(f)
  if not v then break end
  got[#got + 1] = v
end
print("pipeline", table.concat(got, " "), coroutine.status(f))

-- yield across pcall, errors inside coroutines, close
local co = coroutine.create(function(a, b)
  local ok, err = pcall(function()
    local c = coroutine.yield(a + b)
    error("inner " .. c)
  end)
  local d = coroutine.yield(ok, err)
  return d * 2
end)
print(coroutine.resume(co, 1, 2))
print(coroutine.resume(co, "boom"))
print(coroutine.resume(co, 21))
print(coroutine.resume(co), coroutine.status(co))
local bad = coroutine.create(function() local x = nil; return x.field end)
print(coroutine.resume(bad))
local closing = coroutine.create(function()
  local r <close> = setmetatable({}, {__close = function() print("closed on close()") end})
  coroutine.yield(1)
end)
coroutine.resume(closing)
print(coroutine.close(closing), coroutine.status(closing))
print(coroutine.isyieldable(), select(2, coroutine.running()), type(coroutine.running()))

-- round-robin scheduler of many tasks
local tasks, log = {}, {}
for id = 1, 50 do
  tasks[#tasks + 1] = coroutine.create(function()
    local acc = 0
    for step = 1, id % 7 + 1 do acc = acc + id * step; coroutine.yield() end
    log[#log + 1] = id .. ":" .. acc
  end)
end
while #tasks > 0 do
  for i = #tasks, 1, -1 do
    coroutine.resume(tasks[i])
    if coroutine.status(tasks[i]) == "dead" then table.remove(tasks, i) end
  end
end
print("scheduler", #log, table.concat(log, " ", 1, 12))

-- many short-lived coroutines (stack allocation and collection)
local n = 0
for i = 1, 20000 do
  local c = coroutine.wrap(function(x) local y = coroutine.yield(x + 1); return x + y end)
  n = n + c(i) + c(1)
end
print("short coroutines", n)
