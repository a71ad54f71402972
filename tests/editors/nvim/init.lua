-- promptls in Neovim 0.11+ (the README snippet; tests/test_nvim.py runs exactly this file).
-- `*.prompt.yaml` gets the compound filetype `yaml.prompt`: YAML syntax, indent and ftplugins still
-- apply, and yaml-language-server users add 'yaml.prompt' to its filetypes to keep schema checks.
vim.filetype.add({ pattern = { ['.*%.prompt%.ya?ml'] = 'yaml.prompt' } })

vim.lsp.config('promptls', {
  cmd = { 'promptls', 'serve' },
  filetypes = { 'yaml.prompt' },
  root_markers = { 'promptls.toml', 'pyproject.toml', '.git' },
  -- Answers workspace/configuration (section `promptls`); merged over promptls.toml.
  settings = { promptls = { hints = 'all' } },
})
vim.lsp.enable('promptls')

-- Token counts are inlay hints: turn them on where promptls attaches.
vim.api.nvim_create_autocmd('LspAttach', {
  callback = function(args)
    local client = vim.lsp.get_client_by_id(args.data.client_id)
    if client and client.name == 'promptls' then
      vim.lsp.inlay_hint.enable(true, { bufnr = args.buf })
    end
  end,
})
