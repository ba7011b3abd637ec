// The data page (issue 11): not built yet.
import { renderNotBuilt } from './not_built.js';

export function render(page) {
  renderNotBuilt(page, { id: 'data', title: 'data' });
  return null;
}
