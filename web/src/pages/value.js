// The value page (issue 11): not built yet.
import { renderNotBuilt } from './not_built.js';

export function render(page) {
  renderNotBuilt(page, { id: 'value', title: 'value' });
  return null;
}
