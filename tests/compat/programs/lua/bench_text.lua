# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
-- Text processing: a JSON encoder and decoder written in Lua, LZW compression, word
-- frequencies over generated text, and a CSV round trip. Reads this script's own source too.
local function encode(v, out)
  local t = type(v)
  if t == "table" then
    if #v > 0 or next(v) == nil then
      out[#out + 1] = "["
      for i = 1, #v do if i > 1 then out[#out + 1] = "," end encode(v[i], out) end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = k end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        encode(k, out); out[#out + 1] = ":"; encode(v[k], out)
      end
      out[#out + 1] = "}"
    end
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif t == "number" then
    out[#out + 1] = math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
  else
    out[#out + 1] = tostring(v)
  end
  return out
end
local function decode(s)
  local pos = 1
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value
  local function str()
    local buf = {}
    pos = pos + 1
    while true do
      local c = s:sub(pos, pos)
      if c == '"' then pos = pos + 1; return table.concat(buf) end
      if c == "\\" then
        local e = s:sub(pos + 1, pos + 1)
        if e == "u" then buf[#buf + 1] = utf8.char(tonumber(s:sub(pos + 2, pos + 5), 16)); pos = pos + 6
        else buf[#buf + 1] = ({n = "\n", t = "\t", ['"'] = '"', ["\\"] = "\\"})[e]; pos = pos + 2 end
      else
        buf[#buf + 1] = c; pos = pos + 1
      end
    end
  end
  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local obj = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return obj end
      repeat
        ws(); local k = str(); ws(); pos = pos + 1
        obj[k] = value(); ws()
        local sep = s:sub(pos, pos); pos = pos + 1
      until sep == "}"
      return obj
    elseif c == "[" then
      local arr = {}
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return arr end
      repeat
        arr[#arr + 1] = value(); ws()
        local sep = s:sub(pos, pos); pos = pos + 1
      until sep == "]"
      return arr
    elseif c == '"' then
      return str()
    end
    local lit = s:match("^[%w%.%-+]+", pos)
    pos = pos + #lit
    if lit == "true" then return true elseif lit == "false" then return false end
    return math.tointeger(tonumber(lit)) or tonumber(lit)
  end
  return value()
end

local doc = {}
for i = 1, 400 do
  doc[i] = {id = i, name = "item\t" .. i, price = i * 1.25, tags = {"a" .. i % 3, "b" .. i % 5},
            ok = i % 2 == 0, nested = {depth = {deeper = {i, i * i, -i}}}}
end
local text = table.concat(encode(doc, {}))
print("json bytes", #text, text:sub(1, 120))
local back = decode(text)
local again = table.concat(encode(back, {}))
print("round trip", again == text, #back, back[400].nested.depth.deeper[2], back[7].name)

-- LZW compress and decompress
local function lzw_compress(s)
  local dict, size, w, out = {}, 256, "", {}
  for i = 0, 255 do dict[string.char(i)] = i end
  for c in s:gmatch(".") do
    local wc = w .. c
    if dict[wc] then w = wc else out[#out + 1] = dict[w]; dict[wc] = size; size = size + 1; w = c end
  end
  if w ~= "" then out[#out + 1] = dict[w] end
  return out
end
local function lzw_decompress(codes)
  local dict, size = {}, 256
  for i = 0, 255 do dict[i] = string.char(i) end
  local w = dict[codes[1]]
  local out = {w}
  for i = 2, #codes do
    local k = codes[i]
    local entry = dict[k] or (w .. w:sub(1, 1))
    out[#out + 1] = entry
    dict[size] = w .. entry:sub(1, 1); size = size + 1
    w = entry
  end
  return table.concat(out)
end
local f = assert(io.open(arg[0], "r"))
local source = f:read("a")
f:close()
local input = source:rep(4)
local codes = lzw_compress(input)
print("lzw", #input, #codes, lzw_decompress(codes) == input)

-- word frequencies of generated text, ties broken by the word
local syll = {"ka", "lo", "mi", "ne", "su", "ta", "ri", "po"}
local words, seed = {}, 12345
for i = 1, 60000 do
  seed = (seed * 1103515245 + 12345) % 2147483648
  local n = seed % 3 + 1
  local w = {}
  for j = 1, n do w[j] = syll[(seed >> (j * 3)) % #syll + 1] end
  words[i] = table.concat(w)
end
local freq = {}
for _, w in ipairs(words) do freq[w] = (freq[w] or 0) + 1 end
local list = {}
for w, c in pairs(freq) do list[#list + 1] = {w, c} end
table.sort(list, function(a, b) if a[2] ~= b[2] then return a[2] > b[2] end return a[1] < b[1] end)
for i = 1, 8 do io.write(list[i][1], "=", list[i][2], i < 8 and " " or "\n") end
print("distinct", #list)

-- CSV: format rows, parse them back
local rows = {}
for i = 1, 3000 do
  rows[i] = string.format('%d,"name, %d",%.2f,%s', i, i, i / 7, i % 2 == 0 and "yes" or "no")
end
local csv = table.concat(rows, "\n")
local total, quoted = 0, 0
for line in csv:gmatch("[^\n]+") do
  local id, name, val, flag = line:match('^(%d+),"([^"]*)",([%d%.]+),(%a+)$')
  total = total + tonumber(id) + tonumber(val)
  if name:find(",") then quoted = quoted + 1 end
end
print(string.format("csv %d lines, total %.2f, quoted %d", #rows, total, quoted))
for line in io.lines(arg[0]) do if line:find("^%-%- Text") then print(line) end end
os.exit(3)
