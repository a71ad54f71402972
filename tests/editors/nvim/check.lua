-- Headless check: nvim --headless -u INIT -i NONE -l check.lua FILE EXPECTED_CODE
-- Neovim starts with the README's two-line config as its init (so plugin/ and lsp/ are found the way a
-- user's are), opens FILE, and asserts what promptls sent and Neovim rendered: inlay hints with `tok`
-- (per part and the Σ total, drawn as extmarks) and a diagnostic EXPECTED_CODE.
local file, expected = arg[1], arg[2] or 'budget-exceeded'
local timeout = tonumber(vim.env.PROMPTLS_CHECK_TIMEOUT or '20000')
local started = vim.uv.hrtime()

local function ms() return math.floor((vim.uv.hrtime() - started) / 1e6) end
local function fail(msg)
  io.stdout:write('FAIL: ' .. msg .. ' (' .. ms() .. ' ms)\n')
  os.exit(1)
end

vim.cmd.edit(vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
io.stdout:write('nvim ' .. tostring(vim.version()) .. ' filetype=' .. vim.bo[buf].filetype .. '\n')

local client
local attached = vim.wait(timeout, function()
  client = vim.lsp.get_clients({ bufnr = buf, name = 'promptls' })[1]
  return client ~= nil and client.initialized
end, 20)
if not attached then fail('promptls did not attach') end
io.stdout:write(('attached: %s %s at %d ms\n'):format(client.name, vim.inspect(client.server_info), ms()))

local function codes()
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'promptls' then out[#out + 1] = d.code end
  end
  return out
end
local got_diag = vim.wait(timeout, function() return vim.tbl_contains(codes(), expected) end, 20)
io.stdout:write('DIAGNOSTICS ' .. vim.json.encode(vim.diagnostic.get(buf)) .. '\n')
if not got_diag then fail('no ' .. expected .. ' diagnostic; got ' .. vim.inspect(codes())) end
io.stdout:write(('diagnostic %s at %d ms\n'):format(expected, ms()))

local function labels()
  local out = {}
  for _, h in ipairs(vim.lsp.inlay_hint.get({ bufnr = buf })) do
    local label = h.inlay_hint.label
    if type(label) == 'table' then
      label = table.concat(vim.tbl_map(function(p) return p.value end, label))
    end
    out[#out + 1] = { line = h.inlay_hint.position.line, label = label }
  end
  return out
end
local function has(pred)
  for _, h in ipairs(labels()) do if pred(h) then return true end end
  return false
end
local got_hints = vim.wait(timeout, function()
  return has(function(h) return h.label:find('^Σ') ~= nil end)
    and has(function(h) return h.label:find('^Σ') == nil and h.label:find(' tok') ~= nil end)
end, 20)
io.stdout:write('INLAY_HINTS ' .. vim.json.encode(labels()) .. '\n')
if not got_hints then fail('no per-part and total inlay hints') end

local ns = vim.api.nvim_get_namespaces()['nvim.lsp.inlayhint']
local function rendered()
  local out = {}
  if not ns then return out end
  for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })) do
    for _, chunk in ipairs(m[4].virt_text or {}) do
      if chunk[1]:find('tok') or chunk[1]:find('budget') then out[#out + 1] = { row = m[2], col = m[3], text = chunk[1] } end
    end
  end
  return out
end
local drawn = vim.wait(timeout, function()
  vim.cmd('redraw!')
  return #rendered() > 0
end, 50)
io.stdout:write('RENDERED ' .. vim.json.encode(rendered()) .. '\n')
if not drawn then fail('inlay hints were not rendered as extmarks') end

io.stdout:write(('PASS in %d ms\n'):format(ms()))
vim.lsp.stop_client(client.id)
vim.wait(2000, function() return client:is_stopped() end, 20)
os.exit(0)
