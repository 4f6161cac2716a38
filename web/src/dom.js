// The page's elements by id (index.html): one helper, so every module reads them the same way.
export const $ = (id) => document.getElementById(id);
