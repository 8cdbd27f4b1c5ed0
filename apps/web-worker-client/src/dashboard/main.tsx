import { mountPage } from '../shared/mount.js';
import { DashboardApp } from './DashboardApp.js';
import './dashboard.css';

mountPage(<DashboardApp />);
