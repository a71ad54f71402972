-- promptls for Neovim 0.11+: what a Claude prompt file costs, as inlay hints, hovers and diagnostics.
--
--   vim.opt.runtimepath:append('/path/to/promptls/editors/nvim')
--   vim.lsp.enable('promptls')
--
-- This file is found through runtimepath (the 0.11 `lsp/<name>.lua` convention); plugin/promptls.lua
-- beside it gives `*.prompt.yaml` the filetype `yaml.prompt` (YAML syntax and ftplugins still apply) and
-- turns inlay hints on where promptls attaches. Override anything with vim.lsp.config('promptls', {...}).
---@type vim.lsp.Config
return {
  cmd = { 'promptls', 'serve' },
  filetypes = { 'yaml.prompt' },
  root_markers = { 'promptls.toml', 'pyproject.toml', '.git' },
  -- Answers workspace/configuration for the `promptls` section; merged over promptls.toml.
  settings = { promptls = {} },
  on_attach = function(_, bufnr)
    if vim.g.promptls_inlay_hints ~= false then
      vim.lsp.inlay_hint.enable(true, { bufnr = bufnr })
    end
  end,
}
