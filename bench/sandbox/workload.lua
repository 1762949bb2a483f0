-- SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
-- The sandbox benchmark's Lua workload (bench/sandbox/run): calls, tables, sorting, strings,
-- pattern matching and closures, one line of results to compare between runs.
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local t = {}
for i = 1, 200000 do t[i] = (i * 7919) % 100003 end
table.sort(t)
local parts = {}
for i = 1, 50000 do parts[#parts + 1] = tostring(i) end
local s = table.concat(parts, ",")
local digits = 0
for w in s:gmatch("%d+") do digits = digits + #w end
local acc = 0
local function scale(k) return function(x) return x * k end end
for i = 1, 300000 do acc = acc + scale(i % 7)(i) end
local words = {}
for i = 1, 20000 do words[("k" .. i % 1000)] = (words[("k" .. i % 1000)] or 0) + i end
local sum = 0
for _, v in pairs(words) do sum = sum + v end
print(fib(27), t[1], t[#t], #s, digits, acc, sum, string.format("%.6f", math.sqrt(acc)))
