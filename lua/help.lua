-- help(x): what every constructor, method and module does, with its parameters, their
-- defaults and meanings, and an example; help() lists the topics. Only these entry
-- points load at startup: the pages (help_pages.lua) and texts (help_texts.lua) are
-- compiled on the first call, so starting nnsh does not pay for them.
local nn = ...

local pages
local function load_pages()
  pages = pages or assert(nn._load_module('help_pages'))(nn)
  return pages
end

function nn.help(...) return load_pages().help(...) end

-- For completion: {path=, params={{name=, default=}...}} of a function that takes an
-- options table (layer constructors, fit, compile, ...), or nil.
function nn._doc(value) return load_pages().doc(value) end

-- For tests: every documented path with its example.
function nn._help_examples() return load_pages().examples() end
