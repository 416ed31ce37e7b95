import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";

if ("serviceWorker" in navigator && import.meta.env.PROD) {
  navigator.serviceWorker.register("/sw.js");
}
mount(App, { target: document.getElementById("app")! });
