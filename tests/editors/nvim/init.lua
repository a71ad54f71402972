-- The whole Neovim 0.11+ set-up for promptls (README "Neovim"); tests/test_nvim.py starts Neovim with
-- exactly this as its config. Users write the repository's path instead of $PROMPTLS_REPO.
vim.opt.runtimepath:append(vim.env.PROMPTLS_REPO .. '/editors/nvim')
vim.lsp.enable('promptls')
