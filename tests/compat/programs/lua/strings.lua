# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
-- The string library: format, patterns, gsub with strings/tables/functions, pack/unpack, utf8.
-- (The first line is skipped by lua's loader, as a '#!' line would be.)
local out = {}
local function say(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  out[#out + 1] = table.concat(t, " ", 1, t.n)
end

-- format: integers, floats, widths, %q, %a
for _, v in ipairs({0, 1, -1, 255, 65535, math.maxinteger, math.mininteger}) do
  say(string.format("%d|%5d|%-5d|%x|%X|%o|%+d", v, v, v, v, v, v, v))
end
for _, v in ipairs({0.0, 1.5, -2.25, 1e100, 1/3, 2^53, 123456.789, -0.0}) do
  say(string.format("%g|%.3f|%10.2e|%.14g|%a", v, v, v, v, v))
end
say(string.format("%q", "tab\tnl\nquote\"back\\zero\0end"))
say(string.format("%q|%q|%q", 1/0, -1/0, math.mininteger))
say(string.format("[%10s][%-10s][%.3s]", "right", "left", "truncate"))
say(tostring(1e15), tostring(1e16), tostring(0.1), tostring(-0.0), tostring(3 // 0.0))
say(math.tointeger(3.0), math.tointeger(3.5), 7 // 2, 7.0 // 2, 7 % -3, -7 % 3, 7.5 % 2)
say(3 | 5, 3 & 5, 3 ~ 5, ~0, 1 << 62, 1 << 64, -1 >> 1)
say(tonumber("0x10"), tonumber("  12  "), tonumber("1e2"), tonumber("z", 36), tonumber("7fffffff", 16),
    tonumber("10", 2), tonumber("abc"), tonumber(""))

-- patterns
local text = "The quick brown fox jumps over the lazy dog; THE END. 42 apples, 7 pears, 1999 plums"
for w in text:gmatch("%a+") do out[#out + 1] = w:lower() end
say(text:find("fox"), text:find("o", 20), text:find("%d+"), text:find(".", 1, true))
say(text:match("(%d+) (%a+)"), text:match("()lazy()"))
say((text:gsub("%w+", function(w) return #w > 4 and w:upper() or nil end)))
say((text:gsub("(%a)(%a*)", "%2%1ay")))
say((text:gsub("%d+", {["42"] = "forty-two", ["7"] = "seven"})))
say(("hello world"):gsub("o", "0", 1))
say(("  trim me  "):match("^%s*(.-)%s*$") .. "|")
say(("key=value; other = thing ;x=1"):gsub("%s*(%w+)%s*=%s*(%w+)%s*", "<%1:%2>"))
say(("[[nested]] (balanced (parens)) here"):match("%b()"), ("THE (END)"):find("%f[%a]%a+%f[%A]"))
for k, v in string.gmatch("a=1, b=22, ccc=333", "(%w+)=(%w+)") do say(k, v, #k + tonumber(v)) end

-- building and slicing
local parts = {}
for i = 1, 2000 do parts[#parts + 1] = string.char(65 + i % 26) end
local s = table.concat(parts)
say(#s, s:sub(1, 30), s:sub(-10), s:sub(100, 90) == "", s:byte(1, 5))
say(s:rep(3, "-"):len(), ("ab"):rep(5), ("xyz"):reverse(), ("MiXeD"):upper(), ("MiXeD"):lower())
local count = 0
for i = 1, #s do if s:byte(i) == 65 then count = count + 1 end end
say("A count", count, select(2, s:gsub("A", "")))
local h = 0
for i = 1, 200000 do h = (h * 31 + (i % 251)) & 0xffffffff end
say("hash", h)

-- pack/unpack
local packed = string.pack("<i4 >i8 z s1 d B h", -2, 1 << 40, "zero-term", "len", 3.25, 200, -300)
say(#packed, string.unpack("<i4 >i8 z s1 d B h", packed))
say(string.packsize("i4 i8 d"), string.unpack("I2", "\1\2"), string.unpack(">I2", "\1\2"))

-- utf8
local u = "héllo wörld ✓ 日本"
say(utf8.len(u), #u, utf8.char(72, 233, 0x2713, 0x65e5), utf8.codepoint(u, 1, 3))
for p, c in utf8.codes("añ✓") do say(p, c) end
say(utf8.offset(u, 3), utf8.len("\xff"), utf8.charpattern)

-- string <-> number coercion
say("10" + 5, "3" * "4", 10 .. 20, "0x10" + 0, math.type(1), math.type(1.0), math.type("1"))

for i = 1, #out do print(out[i]) end
