-- `*.prompt.yaml` / `*.prompt.yml` are YAML with a compound filetype: YAML syntax, indent and
-- ftplugins apply, and lsp/promptls.lua attaches to `yaml.prompt` (yaml-language-server users add
-- 'yaml.prompt' to its filetypes to keep schema checks).
vim.filetype.add({ pattern = { ['.*%.prompt%.ya?ml'] = 'yaml.prompt' } })
