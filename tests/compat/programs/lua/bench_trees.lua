# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
-- Allocation and the collector: binary trees (as in the benchmarks game), a linked-list
-- queue, and a memoization table that the collector sweeps.
local function make(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return {make(depth), make(depth)}
end
local function check(tree)
  if tree[1] then return 1 + check(tree[1]) + check(tree[2]) end
  return 1
end
local maxdepth = 14
local stretch = make(maxdepth + 1)
print("stretch tree of depth " .. (maxdepth + 1) .. "\t check: " .. check(stretch))
stretch = nil
local long = make(maxdepth)
for depth = 4, maxdepth, 2 do
  local iters = 1 << (maxdepth - depth + 4)
  local sum = 0
  for _ = 1, iters do sum = sum + check(make(depth)) end
  print(iters .. "\t trees of depth " .. depth .. "\t check: " .. sum)
end
print("long lived tree of depth " .. maxdepth .. "\t check: " .. check(long))

-- a queue of records
local head, tail = nil, nil
for i = 1, 200000 do
  local node = {value = i, next = nil}
  if tail then tail.next = node else head = node end
  tail = node
  if i % 3 == 0 then head = head.next end
end
local n, s = 0, 0
while head do n = n + 1; s = s + head.value; head = head.next end
print("queue", n, s)

-- string keys created and dropped
local memo = setmetatable({}, {__mode = "v"})
local hits = 0
for i = 1, 100000 do
  local k = "key" .. (i % 5000)
  local v = memo[k]
  if v then hits = hits + 1 else memo[k] = {k} end
  if i % 20000 == 0 then collectgarbage("step", 0) end
end
print("memo done", hits >= 0)
