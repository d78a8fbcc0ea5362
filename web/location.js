// Sharing a location: the browser's position if it can and may tell, else
// a form for typed coordinates that says why. It goes out like a message.

import * as protocol from './protocol.js';
import { showError } from './ui.js';

const GEO_TIMEOUT_MS = 15_000;

function geoReason(err) {
  if (err && err.code === 1) {
    return window.isSecureContext
      ? 'Location access was denied, so your position was not shared. Allow it in the browser to try again, or type coordinates:'
      : 'The browser shares locations only with secure (https) pages. Type coordinates instead:';
  }
  if (err && err.code === 3) return 'Finding your position took too long. Try again, or type coordinates:';
  return 'Your position is not available right now. Try again, or type coordinates:';
}

// A typed coordinate as a number: plain decimal notation only ("51.5007").
function parseCoord(raw) {
  const t = raw.trim().replace(/^\+/, '');
  return /^-?\d+(\.\d+)?$/.test(t) ? Number(t) : NaN;
}

export class LocationShare {
  #ui;
  #share;
  #locating = false;

  /** share(latitude, longitude): send it; false when there is no room to send it to. */
  constructor(ui, share) {
    this.#ui = ui;
    this.#share = share;
    ui.shareLocation.addEventListener('click', () => this.#locate());
    ui.coordsForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#submitTyped();
    });
    ui.coordsCancel.addEventListener('click', () => this.#cancel());
    ui.coordsForm.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.#cancel();
    });
  }

  /** Opens the form with a position to change and send again (Edit on a failed one). */
  edit(latitude, longitude) {
    this.#ui.coordsLat.value = String(latitude);
    this.#ui.coordsLon.value = String(longitude);
    this.#open('Change the coordinates, or share them again:');
  }

  #locate() {
    if (this.#locating) return;
    showError(this.#ui.sendError, '');
    if (!('geolocation' in navigator)) {
      this.#open('This browser cannot share its location. Type coordinates instead:');
      return;
    }
    this.#busy(true);
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        this.#busy(false);
        if (this.#share(pos.coords.latitude, pos.coords.longitude)) this.#close();
      },
      (err) => {
        this.#busy(false);
        this.#open(geoReason(err));
      },
      { enableHighAccuracy: false, timeout: GEO_TIMEOUT_MS, maximumAge: 60_000 },
    );
  }

  #submitTyped() {
    const ui = this.#ui;
    const lat = parseCoord(ui.coordsLat.value);
    const lon = parseCoord(ui.coordsLon.value);
    const verdict = protocol.location(lat, lon);
    if (verdict.why === 'latitude_out_of_range') {
      showError(ui.coordsError, 'Latitude must be a number from -90 to 90, like 51.5007.');
      ui.coordsLat.focus();
      return;
    }
    if (verdict.why === 'longitude_out_of_range') {
      showError(ui.coordsError, 'Longitude must be a number from -180 to 180, like -0.1246.');
      ui.coordsLon.focus();
      return;
    }
    if (!this.#share(lat, lon)) return;
    ui.coordsLat.value = '';
    ui.coordsLon.value = '';
    this.#close();
    ui.messageInput.focus();
  }

  #busy(on) {
    this.#locating = on;
    this.#ui.shareLocation.disabled = on;
    this.#ui.shareLocation.textContent = on ? 'Locating…' : 'Share location';
  }

  #open(reason) {
    this.#ui.coordsReason.textContent = reason;
    showError(this.#ui.coordsError, '');
    this.#ui.coordsForm.hidden = false;
    this.#ui.coordsLat.focus();
  }

  #close() {
    this.#ui.coordsForm.hidden = true;
    this.#ui.coordsReason.textContent = '';
    showError(this.#ui.coordsError, '');
  }

  #cancel() {
    this.#close();
    this.#ui.shareLocation.focus();
  }
}
