# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
-- Errors: error with levels and values, pcall/xpcall with handlers and tracebacks, runtime
-- errors the VM raises, stack overflow, errors in metamethods and __close; ends in an
-- uncaught error, so the exit status is 1 and the message and traceback go to stderr.
local function show(...) print(select("#", ...), ...) end
show(pcall(error, "plain"))
show(pcall(error, "no position", 0))
print(select(2, pcall(error, {code = 42})).code)
show(pcall(error))
show(pcall(function() error("level 1") end))
show(pcall(function() local function inner() error("level 2", 2) end inner() end))
local ok, e = pcall(error, setmetatable({}, {__tostring = function() return "custom" end}))
print(ok, tostring(e))

-- runtime errors raised by the VM
local cases = {
  function() return nil + 1 end,
  function() local t = nil; return t.x end,
  function() return #5 end,
  function() return {} < {} end,
  function() return "abc" + 1 end,
  function() return 1 // 0 end,
  function() return 1 % 0 end,
  function() return math.tointeger(2^63) | 0 end,
  function() return ("x"):rep(-1) .. nil end,
  function() undefined_global() end,
  function() local s = "str"; s.method() end,
  function() return string.rep("x", 10, 20) end,
  function() return setmetatable({}, {__index = function() error("from __index") end}).k end,
  function() return select(0) end,
  function() return ("%d"):format(1.5) end,
  function() return table.concat({1, {}, 3}) end,
  function() return tostring(nil) .. 1 end,
}
for i, f in ipairs(cases) do print(i, pcall(f)) end

-- xpcall with message handlers
print(xpcall(function() error("handled") end, function(m) return "H(" .. m .. ")" end))
print(xpcall(function(a, b) return a + b end, print, 3, 4))
local tb
xpcall(function() local function deep(n) if n == 0 then error("deep") end deep(n - 1) end deep(5) end,
       function(m) tb = debug.traceback(m, 1) end)
print((tb:gsub("\t", "  ")))

-- stack overflow is caught
local function recurse(n) return 1 + recurse(n + 1) end
local ok2, msg = pcall(recurse, 1)
print("overflow", ok2, (msg:gsub("^.-:%d+: ", "")))
local depth = 0
local function nest() depth = depth + 1; local ok3 = pcall(nest) end
nest()
print("nested pcall depth > 100", depth > 100)

-- errors in error handlers and __close
print(xpcall(function() error("first") end, function() error("in handler") end))
local order = {}
local ok4, err4 = pcall(function()
  local a <close> = setmetatable({}, {__close = function(_, e) order[#order + 1] = "a:" .. tostring(e) end})
  local b <close> = setmetatable({}, {__close = function(_, e) order[#order + 1] = "b:" .. tostring(e); error("from b") end})
  error("body")
end)
print(ok4, err4, table.concat(order, " | "))

-- error values through many frames, rethrown
local function layer(n)
  if n == 0 then error({depth = 0}) end
  local ok5, e5 = pcall(layer, n - 1)
  e5.depth = e5.depth + 1
  error(e5)
end
local _, final = pcall(layer, 50)
print("rethrown through", final.depth)

-- assert, tostring of error values, error with numbers
print(pcall(assert, false))
print(pcall(assert, nil, "assert message"))
print(pcall(assert, 1, 2, 3))
print(select(2, pcall(error, 3.5)), select(2, pcall(error, 7)))

io.stderr:write("about to fail\n")
local function fail_here() local t = {} ; return t.missing.field end
fail_here()
