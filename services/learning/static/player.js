// 继续教育 web player: plays the courses of one order with no seek bar, reports the position every
// few seconds, resumes where the server last credited, and moves on to the next course by itself.
"use strict";

const API = "/api/learning";
const TOKEN_KEY = "jianpei.learning.token";
const ORDER_KEY = "jianpei.learning.order";
const $ = (id) => document.getElementById(id);
const video = $("video");

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  orderId: Number(sessionStorage.getItem(ORDER_KEY)) || null,
  order: null,
  watch: null,
  seq: 0,
  credited: 0,
  lastTime: 0,
  timer: null,
  busy: false,
  again: false,
  stopped: false,
};

function notice(text, ok = false) {
  const box = $("notice");
  box.textContent = text || "";
  box.hidden = !text;
  box.classList.toggle("ok", ok);
}

function show(section) {
  for (const id of ["login", "orders", "study"]) $(id).hidden = id !== section;
}

function clockText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  let response;
  try {
    response = await fetch(API + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  } catch {
    // The next report carries the position on: the server credits it when the network is back.
    throw { code: "network", message: "网络不太好，学习进度稍后会自动补报" };
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || { code: "http_error", message: "网络不太好，请稍后再试" };
    if (response.status === 401) logout(error.message);
    throw error;
  }
  return data;
}

function logout(message) {
  stopHeartbeat();
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  show("login");
  notice(message || "请先登录");
}

async function redeemTicket(ticket) {
  const data = await api("POST", "/player-links/redeem", { ticket });
  state.token = data.token;
  state.orderId = data.enrolment_id;
  sessionStorage.setItem(TOKEN_KEY, data.token);
  sessionStorage.setItem(ORDER_KEY, String(data.enrolment_id));
  history.replaceState(null, "", location.pathname);
}

async function listOrders() {
  const orders = await api("GET", "/enrolments");
  const list = $("order-list");
  list.replaceChildren();
  for (const order of orders) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.textContent = "开始学习";
    button.addEventListener("click", () => openOrder(order.id));
    item.append(`${order.cycle_year}年度 · ${order.position}（${order.certificate_number}） · ${order.status} `, button);
    list.append(item);
  }
  if (!orders.length) notice("还没有报名。请先在对话里选择证书、年度和课程包完成报名。");
  show("orders");
}

function renderOrder() {
  const order = state.order;
  $("order-title").textContent =
    `${order.cycle_year}年度 · ${order.position}（${order.certificate_number}） · ${order.package_title}`;
  $("order-bar").style.width = `${order.progress_percent}%`;
  const done = order.courses.filter((c) => c.completed).length;
  $("order-progress").textContent =
    `已学完 ${done}/${order.courses.length} 门课，进度 ${order.progress_percent}%，共 ${order.total_hours} 学时 · ${order.status}`;
  const list = $("course-list");
  list.replaceChildren();
  for (const course of order.courses) {
    const item = document.createElement("li");
    item.dataset.seq = String(course.seq);
    if (state.watch && state.watch.seq === course.seq) item.classList.add("current");
    const tag = document.createElement("span");
    tag.className = course.completed ? "tag done" : "tag";
    tag.textContent = course.completed
      ? "已学完"
      : `已学 ${clockText(course.credited_seconds)} / ${clockText(course.duration_seconds)}`;
    item.append(`${course.title}（${course.kind} ${course.hours}学时）`, tag);
    if (order.courses_completed || !course.completed) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = order.courses_completed ? "回看" : "学习";
      button.addEventListener("click", () => startCourse(course.seq));
      item.append(" ", button);
    }
    list.append(item);
  }
}

async function openOrder(id) {
  state.orderId = id;
  sessionStorage.setItem(ORDER_KEY, String(id));
  state.order = await api("GET", `/enrolments/${id}`);
  show("study");
  renderOrder();
  await nextCourse();
}

async function nextCourse() {
  const order = state.order;
  if (order.reviewed) {
    notice("恭喜，本年度继续教育已完成，学时已记入管理系统。课程可以随意回看。", true);
    return;
  }
  if (order.courses_completed) {
    notice("全部课程已学完！请回到对话里参加考核。课程可以随意回看。", true);
    return;
  }
  if (order.blocked_by) {
    notice(order.blocked_by);
    return;
  }
  const course = order.courses.find((c) => !c.completed);
  if (course) await startCourse(course.seq);
}

async function startCourse(seq) {
  stopHeartbeat();
  let watch;
  try {
    watch = await api("POST", `/enrolments/${state.orderId}/courses/${seq}/watch`);
  } catch (error) {
    notice(error.message);
    return;
  }
  state.watch = watch;
  state.seq = 0;
  state.stopped = false;
  state.credited = watch.resume_at;
  state.lastTime = watch.resume_at;
  $("course-title").textContent = watch.title;
  renderOrder();
  notice(watch.resume_at > 0 ? `从上次学到的 ${clockText(watch.resume_at)} 继续播放` : "");
  video.src = watch.media_url;
  video.addEventListener(
    "loadedmetadata",
    () => {
      video.currentTime = watch.resume_at;
      play();
    },
    { once: true },
  );
  state.timer = setInterval(() => beat(), watch.heartbeat_seconds * 1000);
}

function play() {
  $("play").disabled = false;
  video.play().then(
    () => ($("play").textContent = "暂停"),
    () => {
      $("play").textContent = "播放";
      notice("请点“播放”开始学习");
    },
  );
}

function stopHeartbeat() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

async function beat() {
  const watch = state.watch;
  if (!watch || state.stopped) return;
  if (state.busy) {
    state.again = true;
    return;
  }
  state.busy = true;
  try {
    const result = await api("POST", `/watch/${watch.session_id}/heartbeats`, {
      seq: ++state.seq,
      position: video.ended ? watch.duration_seconds : video.currentTime,
      rate: video.playbackRate,
    });
    if (watch.free_replay) return;
    state.credited = result.credited_seconds;
    const course = state.order.courses.find((c) => c.seq === watch.seq);
    if (course) course.credited_seconds = result.credited_seconds;
    if (result.course_completed) {
      state.stopped = true;
      stopHeartbeat();
      state.order = await api("GET", `/enrolments/${state.orderId}`);
      renderOrder();
      await nextCourse();
    } else {
      renderOrder();
    }
  } catch (error) {
    refused(error);
  } finally {
    state.busy = false;
    if (state.again) {
      state.again = false;
      beat();
    }
  }
}

function refused(error) {
  if (["concurrent_session", "course_finished", "session_not_found"].includes(error.code)) {
    state.stopped = true;
    stopHeartbeat();
    video.pause();
    $("play").textContent = "播放";
  } else if (["rewind", "seek_forward", "faster_than_wall_clock"].includes(error.code)) {
    video.currentTime = state.credited;
    state.lastTime = state.credited;
  }
  notice(error.message);
}

video.addEventListener("timeupdate", () => {
  if (!video.seeking) state.lastTime = video.currentTime;
  if (state.watch) {
    $("clock").textContent = `${clockText(video.currentTime)} / ${clockText(state.watch.duration_seconds)}`;
  }
});
video.addEventListener("seeking", () => {
  if (state.watch && !state.watch.free_replay && Math.abs(video.currentTime - state.lastTime) > 1.5) {
    video.currentTime = state.lastTime;
  }
});
video.addEventListener("ratechange", () => {
  if (video.playbackRate !== 1) video.playbackRate = 1;
});
video.addEventListener("ended", () => {
  $("play").textContent = "播放";
  beat();
});
$("play").addEventListener("click", () => {
  if (state.stopped && state.watch) {
    startCourse(state.watch.seq);
  } else if (video.paused) {
    play();
  } else {
    video.pause();
    $("play").textContent = "播放";
  }
});
document.addEventListener("visibilitychange", () => {
  if (document.hidden && !video.paused) {
    video.pause();
    $("play").textContent = "播放";
  }
});
$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const data = await api("POST", "/login", {
      login: $("login-name").value.trim(),
      password: $("login-password").value,
    });
    state.token = data.token;
    sessionStorage.setItem(TOKEN_KEY, data.token);
    $("login-password").value = "";
    notice("");
    await listOrders();
  } catch (error) {
    notice(error.message);
  }
});

async function init() {
  try {
    const ticket = new URLSearchParams(location.search).get("ticket");
    if (ticket) {
      try {
        await redeemTicket(ticket);
      } catch (error) {
        // A link works once; this page may already be logged in with it (opened again in the same tab).
        if (!state.token) throw error;
        history.replaceState(null, "", location.pathname);
      }
    }
    if (!state.token) return logout("请用身份证号和密码登录");
    if (state.orderId) await openOrder(state.orderId);
    else await listOrders();
  } catch (error) {
    notice(error.message || "出了点问题，请刷新页面再试");
  }
}

init();
